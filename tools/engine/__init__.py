"""The offline engine: the real program under Pulumi's mocks (`mocks`), the policy pack run on what it
registered (`policy`), the comparison of two synth documents (`compare`), and the check of every
resource's inputs against the installed pulumi-aws SDK's input types (`schema`)."""
