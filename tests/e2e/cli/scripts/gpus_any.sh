#!/bin/bash
#SBATCH --gpus=1
#SBATCH --time=45:00
#SBATCH --qos=short
#SBATCH --dependency=afterok:123:124
nvidia-smi
