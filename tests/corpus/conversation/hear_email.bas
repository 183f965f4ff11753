TALK "Your email?"
HEAR email AS EMAIL
TALK "We will write to " & email
