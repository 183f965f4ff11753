name = "bad name"
PUBLISH EVENT name
