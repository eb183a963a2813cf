public enum LensingModule {}
