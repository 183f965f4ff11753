' Item 9: HEAR forms: x = HEAR, AS TYPE WITH "prompt", menus.
name = HEAR
TALK "name: " & name
HEAR age AS INTEGER WITH "How old are you?"
TALK "age: " & (age + 1)
HEAR plan AS "Basic", "Pro"
TALK "plan: " & plan
choice = HEAR AS MENU "Yes", "No"
TALK "choice: " & choice
HEAR city AS STRING DEFAULT "Lisbon"
TALK "city: " & city
HEAR at AS HOUR
TALK "at: " & at
