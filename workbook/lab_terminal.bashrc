# The start-up file of every terminal that `make lab` opens in JupyterLab (bash --rcfile).
# First your own ~/.bashrc, as in any terminal; then the workbook's .venv, activated, so that
# `python`, `flask` and `pip` there are the workbook's whatever ~/.bashrc put on PATH.
if [ -f ~/.bashrc ]; then
  . ~/.bashrc
fi
. "$(dirname "${BASH_SOURCE[0]}")/../.venv/bin/activate"
