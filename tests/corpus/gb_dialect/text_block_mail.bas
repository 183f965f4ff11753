' BEGIN MAIL needs mail, which this server does not provide yet.
TALK "before"
BEGIN MAIL "ana@example.com"
  Subject: Your order
  Hi Ana, it shipped.
END MAIL
TALK "after"
