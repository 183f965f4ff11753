TALK "He said ""hello"""
TALK ""
TALK "[" & "" & "]"
TALK """"
