"""specdec: an executable survey of speculative decoding.

Modules (one per page of the site):

- :mod:`specdec.sampling` -- Leviathan et al. (2023) Algorithm 1, the speculative sampler.
- :mod:`specdec.models` -- toy n-gram language models and drafts for it.
- :mod:`specdec.speedup` -- the expected-speedup model of Leviathan et al. (2023) section 3.
- :mod:`specdec.roofline` -- arithmetic intensity and roofline time of one decode forward.
- :mod:`specdec.probe` -- measures the reader's own machine with NumPy.
"""

__version__ = "0.1.0"
