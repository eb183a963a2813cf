import Core
import DeepLenseCLI

OpenBLASCore.preferAVX512Kernels()
AllocatorTuning.apply()
DeepLense.runAsMain()
