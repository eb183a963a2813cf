public enum EquivariantModule {}
