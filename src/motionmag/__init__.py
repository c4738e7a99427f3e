"""motionmag: video motion magnification research pipeline.

FlowMag, Oh et al. 2018 and the classical linear and phase-based Eulerian methods behind one
interface (``motionmag.methods``), with the video I/O, optical-flow models and metrics they share.
"""

__version__ = "0.1.0"
