public enum DomainAdaptationModule {}
