TALK "Name?"
HEAR name
TALK "Age?"
HEAR age AS INTEGER
