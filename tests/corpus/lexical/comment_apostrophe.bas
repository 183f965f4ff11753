' A whole-line comment
x = 1 ' a comment after code
TALK x ' another one
TALK "it's not a comment" ' but this is
'TALK "never"
