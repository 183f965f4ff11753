WAIT FOR EVENT "ok" OR "not ok!"
