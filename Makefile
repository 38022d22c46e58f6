.PHONY: notebooks

# Executes notebooks/*.ipynb headless (Debian python3-nbconvert and friends; see scripts/notebooks.sh).
notebooks:
	scripts/notebooks.sh
