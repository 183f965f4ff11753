REM a remark at the start of a line
rem lower-case too
Rem TALK "never"
remark = "a variable whose name starts with rem"
TALK remark
REM "an unterminated string in a remark is fine
