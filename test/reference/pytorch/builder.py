import torch.nn as nn


def make_model(widths=(16, 8), classes=3):
    layers = []
    in_features = 10
    for width in widths:
        layers += [nn.Linear(in_features, width), nn.ReLU()]
        in_features = width
    layers.append(nn.Linear(in_features, classes))
    return nn.Sequential(*layers)
