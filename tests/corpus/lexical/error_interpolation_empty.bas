TALK "Hello ${ }"
