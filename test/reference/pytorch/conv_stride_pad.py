import torch
import torch.nn as nn
import torch.nn.functional as F


class StridedConvNet(nn.Module):
    def __init__(self):
        super(StridedConvNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 6, kernel_size=(3, 3), padding='same')
        self.conv3 = nn.Conv2d(6, 5, kernel_size=2, stride=(1, 2), padding=(1, 0), bias=False)
        self.fc = nn.Linear(5 * 6 * 2, 3)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = self.conv3(x)
        x = torch.flatten(x, 1)
        return self.fc(x)
