// policy/: the multimodal network, training, inference, checkpoints and
// baselines. Built in issue #6; nothing is exported yet.
export {};
