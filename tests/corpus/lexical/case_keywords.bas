talk "lower"
Talk "mixed"
TALK "upper"
x = 2
if x = 2 then
  tAlK "if"
eNd If
For i = 1 tO 2
  talk i
nExT
