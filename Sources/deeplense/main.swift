import DeepLenseCLI

DeepLense.main()
