"""The offline engine: the real program under Pulumi's mocks (`mocks`), the policy pack run on what it
registered (`policy`), and the comparison of two synth documents (`compare`)."""
