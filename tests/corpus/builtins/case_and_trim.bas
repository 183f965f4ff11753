TALK UCASE("Hello, World")
TALK LCASE("Hello, World")
TALK UCASE("ação")
TALK "[" & TRIM("  padded\t ") & "]"
TALK "[" & TRIM("") & "]"
