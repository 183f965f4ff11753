price = 5
TALK "costs $" & price
TALK "$$ and ${price}$"
