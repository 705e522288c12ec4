import torch.nn as nn


class FlattenNet(nn.Module):
    """Non-square feature maps with several channels: the Linear after the flatten sees C·H·W order."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=(2, 3))
        self.act = nn.ReLU()
        self.fc1 = nn.Linear(4 * 5 * 3, 7)
        self.fc2 = nn.Linear(7, 3)

    def forward(self, x):
        x = self.act(self.conv(x))
        x = x.view(x.size(0), -1)
        x = self.act(self.fc1(x))
        return self.fc2(x)
