' nothing but comments
// and more
REM and a remark


