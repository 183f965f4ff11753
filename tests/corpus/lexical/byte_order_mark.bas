TALK "a file saved with a BOM"
