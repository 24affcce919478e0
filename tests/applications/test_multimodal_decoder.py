import numpy as np
from keras import ops

from applications import MultimodalDecoder
from tests.applications.conftest import DIMS, MAX_LEN, SMALL, make_backbone_decoder


def test_decoder_emits_the_masks_length_and_rebuilds_from_its_config(tiny):
    x, _, _ = tiny
    backbone, decoder = make_backbone_decoder()
    masks = {f"{name}_mask": ops.convert_to_tensor(x[f"{name}_mask"]) for name in DIMS}
    outputs = decoder({"z": backbone(x), **masks})
    for name, dim in DIMS.items():
        assert tuple(outputs[name].shape) == (48, MAX_LEN, dim)
    short = decoder({"z": backbone(x), **{k: v[:, :3] for k, v in masks.items()}})
    for name in DIMS:  # as many steps as the masks, each step the same as in the longer batch
        np.testing.assert_allclose(ops.convert_to_numpy(short[name]),
                                   ops.convert_to_numpy(outputs[name])[:, :3], atol=1e-6)
    twin = MultimodalDecoder.from_config(decoder.get_config())
    assert twin.count_params() == decoder.count_params()
    assert decoder.latent_dim == 3 * SMALL["hidden_dim"]
