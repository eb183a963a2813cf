public enum BackbonesModule {}
