print("flap")
