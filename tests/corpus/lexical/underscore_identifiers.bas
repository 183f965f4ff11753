_tmp = 1
first_name = "Ann"
TALK first_name & _tmp
