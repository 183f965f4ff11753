TALK "Price?"
HEAR price AS NUMBER
TALK price * 2
HEAR other AS NUMBER
TALK other + 1
