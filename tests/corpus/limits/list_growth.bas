xs = [1]
DO
  xs = xs + xs
LOOP
