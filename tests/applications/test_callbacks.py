import numpy as np
import pytest
from keras import ops

from applications import AssignmentChangeStopping, TargetRefresh
from tests.applications.conftest import make_dec, with_index


@pytest.mark.backend_agnostic
def test_target_refresh_freezes_each_rows_p_until_the_next_refresh(tiny):
    x, _, semi = tiny
    dec = make_dec(target_rows=len(semi))
    dec(x)
    q_start = ops.convert_to_numpy(dec(x)["q"])
    refresh = TargetRefresh(x, update_interval=1000)  # once, before the first step
    history = dec.fit(with_index(x), semi, epochs=2, batch_size=16, verbose=0, callbacks=[refresh])
    expected = q_start**2 / q_start.sum(0)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(ops.convert_to_numpy(dec.frozen_target), expected, rtol=1e-4, atol=1e-6)
    assert not np.allclose(ops.convert_to_numpy(dec(x)["q"]), q_start, atol=1e-4)  # Q moved, P did not
    assert np.all(np.isfinite(history.history["cluster_loss"]))
    fewer_rows = TargetRefresh({name: value[:10] for name, value in x.items()}, update_interval=1)
    fewer_rows.set_model(dec)
    with pytest.raises(ValueError, match="10 rows to refresh.*target_rows=48"):
        fewer_rows.refresh()


@pytest.mark.usefixtures("eager_functions")  # the callbacks' logic; the first test traces the steps
@pytest.mark.backend_agnostic
def test_target_refresh_stores_dataset_frequencies_every_interval(tiny):
    x, _, semi = tiny
    dec = make_dec()
    refresh = TargetRefresh(x, update_interval=2)
    dec.fit(x, semi, epochs=3, batch_size=24, verbose=0, callbacks=[refresh])  # in length buckets
    steps = 3 * dec.batches_per_epoch(x, 24)
    assert refresh.step == steps
    assert len(refresh.history) == (steps + 1) // 2 - 1  # refreshes at steps 0, 2, 4, ...: changes from the first on
    frequency = ops.convert_to_numpy(dec.cluster_frequency)
    assert frequency.sum() == pytest.approx(len(semi), rel=1e-4)
    assert all(0.0 <= f <= 1.0 for f in refresh.history)


@pytest.mark.usefixtures("eager_functions")  # the callbacks' logic; the first test traces the steps
def test_assignment_change_stopping_stops_when_assignments_settle(tiny):
    x, _, semi = tiny
    dec = make_dec()
    refresh = TargetRefresh(x, update_interval=2)
    stopper = AssignmentChangeStopping(refresh, tol=1.01)  # any change is below tol
    history = dec.fit(x, semi, epochs=10, batch_size=16, verbose=0, callbacks=[refresh, stopper])
    assert stopper.stopped_at_step == 3
    assert len(history.history["loss"]) == 1
    patient = AssignmentChangeStopping(TargetRefresh(x, update_interval=2), tol=0.0)
    history = make_dec().fit(x, semi, epochs=2, batch_size=16, verbose=0,
                             callbacks=[patient.refresh, patient])
    assert patient.stopped_at_step is None and len(history.history["loss"]) == 2
