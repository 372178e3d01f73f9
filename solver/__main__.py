"""``python -m solver`` runs the ``dingdian`` command line."""

from solver.cli import main

if __name__ == "__main__":
    main(prog_name="dingdian")
