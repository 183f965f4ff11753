// A whole-line comment
TALK "a" // after code
TALK "http://example.com/path" // the slashes in the string stay
//TALK "never"
