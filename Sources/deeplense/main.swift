import Core
import DeepLenseCLI

AllocatorTuning.apply()
DeepLense.main()
