"""Pretrained networks: the weights registry, device choice and our PyTorch ports of the shipped ONNX graphs."""
