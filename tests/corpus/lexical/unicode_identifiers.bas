' Names are case-insensitive beyond ASCII too (General Bots scripts are often Portuguese).
preço = 10
TALK PREÇO * 2
SUB Saudação(nome)
  TALK "Olá, " & nome
END SUB
CALL SAUDAÇÃO("Ana")
FOR ação = 1 TO 2
  TALK ação
NEXT AÇÃO
pedido = { Situação: "pago" }
TALK pedido.situação
TALK "${PREÇO}€"
