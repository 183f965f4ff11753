' HTTP keywords: a request to this machine (or a private network) is refused unless the
' allow-list names it (BOTSERVER_HTTP_ALLOW); the error names the method and URL.
SET HEADER "X-Trace", "order-7"
TRY
  items = GET "http://127.0.0.1:9/items"
CATCH e
  TALK e
END TRY
CLEAR HEADERS
POST "http://10.0.0.1/orders", { id: 7 }
TALK "never"
