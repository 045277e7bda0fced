"""HW1's own code: what the graders receive, and what the report's numbers come from.

Task 1 (`task1`, `scratch_mlp`) trains an MLP from torch tensors only; Task 2 (`task2`,
`random_label_net`) memorises random labels with torch.nn. The package needs torch, torchvision
and the standard library only: `make submission` ships it unchanged beside the four scripts of
`hw1/scripts/`, and the project's experiments import these same modules, so the grader's numbers
and the report's numbers come from one code path.
"""
