#!/bin/bash
#SBATCH --nodes=two
#SBATCH --time=10
echo never
