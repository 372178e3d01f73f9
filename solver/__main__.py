"""``python -m dingdian`` runs the ``dingdian`` command line."""

from dingdian.cli.main import main

if __name__ == "__main__":
    main(prog_name="dingdian")
