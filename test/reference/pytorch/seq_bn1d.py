import torch.nn as nn

model = nn.Sequential(
    nn.Linear(20, 32),
    nn.BatchNorm1d(32),
    nn.ReLU(),
    nn.Linear(32, 5),
)
