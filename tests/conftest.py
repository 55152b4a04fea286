import os
from pathlib import Path
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

@pytest.fixture(scope='session')
def root(): return ROOT
