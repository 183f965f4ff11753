' Integer overflow falls back to a (rounded) decimal instead of failing or wrapping.
big = 9223372036854775807
TALK big
TALK big + 1
TALK big * 2
TALK -big - 1
TALK -big - 2
