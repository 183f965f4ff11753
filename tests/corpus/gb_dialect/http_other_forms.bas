' Other General Bots forms of GET and SET HEADER: a name after the URL is not an HTTP
' request (not available here); SET HEADER also takes '='.
SET HEADER "Accept" = "application/json"
CLEAR HEADERS
quote = GET stock FOR "MSFT"
TALK "never"
