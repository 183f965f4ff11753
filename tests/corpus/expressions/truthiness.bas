FOR EACH v IN [NULL, FALSE, 0, 0.0, "", TRUE, 1, -1, "0", "false", [], {}]
  IF v THEN TALK "truthy" ELSE TALK "falsy"
NEXT
