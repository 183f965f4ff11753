WAIT "soon"
