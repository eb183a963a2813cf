print("Bench: no cases yet")
