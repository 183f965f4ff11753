thing = 5
WITH thing
  kind = "map now"
END WITH
TALK thing.kind
