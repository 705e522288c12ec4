import torch
import torch.nn as nn
import torch.nn.functional as F


class MobileBlocks(nn.Module):
    """The layers of MobileNets as PyTorch writes them: asymmetric ZeroPad2d, depthwise Conv2d (groups =
    in_channels, then with a channel multiplier of 2), a grouped Conv2d, nearest Upsample."""

    def __init__(self):
        super(MobileBlocks, self).__init__()
        self.pad = nn.ZeroPad2d((1, 0, 2, 1))
        self.dw = nn.Conv2d(4, 4, 3, stride=2, groups=4, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.pw = nn.Conv2d(4, 6, 1)
        self.grouped = nn.Conv2d(6, 6, 3, padding=1, groups=3)
        self.up = nn.Upsample(scale_factor=2, mode='nearest')
        self.dw2 = nn.Conv2d(6, 12, kernel_size=3, groups=6)
        self.fc = nn.Linear(12 * 8 * 4, 3)

    def forward(self, x):
        x = self.pad(x)
        x = F.relu(self.bn(self.dw(x)))
        x = F.relu(self.pw(x))
        x = F.relu(self.grouped(x))
        x = self.up(x)
        x = self.dw2(x)
        x = torch.flatten(x, 1)
        return self.fc(x)
