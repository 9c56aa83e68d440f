"""Access analysis: the staff groups read back from a synth (`snapshot`), the requests each persona is
tried with (`capabilities`), and the policy evaluation that answers them (`evaluate`)."""
